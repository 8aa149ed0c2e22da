def parse_csv_line(line: str) -> list[str]:
    fields = []
    field = []
    i = 0
    while True:
        if i < len(line) and line[i] == '"':
            i += 1
            while True:
                if i >= len(line):
                    raise ValueError("unterminated quoted field")
                if line[i] == '"':
                    if i + 1 < len(line) and line[i + 1] == '"':
                        field.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                field.append(line[i])
                i += 1
        while i < len(line) and line[i] != ",":
            field.append(line[i])
            i += 1
        fields.append("".join(field))
        field = []
        if i >= len(line):
            return fields
        i += 1  # the comma
