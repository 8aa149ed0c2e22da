import re


def encode(text: str) -> str:
    return "".join(f"{len(run.group(0))}{run.group(1)}" for run in re.finditer(r"(.)\1*", text, re.DOTALL))


def decode(text: str) -> str:
    parts = []
    position = 0
    for match in re.finditer(r"(\d+)(\D)", text, re.DOTALL):
        if match.start() != position:
            raise ValueError(f"malformed at {position}")
        parts.append(match.group(2) * int(match.group(1)))
        position = match.end()
    if position != len(text):
        raise ValueError(f"malformed at {position}")
    return "".join(parts)
