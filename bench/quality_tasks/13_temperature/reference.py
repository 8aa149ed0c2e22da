UNITS = ("C", "F", "K")


class UnknownUnitError(ValueError):
    pass


def convert(value: float, from_unit: str, to_unit: str) -> float:
    for unit in (from_unit, to_unit):
        if unit not in UNITS:
            raise UnknownUnitError(f"unknown unit {unit!r}")
    if from_unit == "C":
        celsius = value
    elif from_unit == "F":
        celsius = (value - 32) * 5 / 9
    else:
        celsius = value - 273.15
    if celsius + 273.15 < -1e-9:
        raise ValueError("below absolute zero")
    if to_unit == "C":
        result = celsius
    elif to_unit == "F":
        result = celsius * 9 / 5 + 32
    else:
        result = celsius + 273.15
    return round(result, 2)
