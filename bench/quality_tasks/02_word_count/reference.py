import re


def word_count(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for word in re.findall(r"[A-Za-z]+", text):
        key = word.lower()
        counts[key] = counts.get(key, 0) + 1
    return counts
