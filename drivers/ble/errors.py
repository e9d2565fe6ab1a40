"""Errors raised by the BLE payload parsers."""


class ParseError(ValueError):
    """A notification payload that does not follow its GATT specification.

    Raised for payloads that are too short or too long, that set reserved (RFU) flag bits,
    or that declare impossible lengths. Collectors count these and keep going.
    """
