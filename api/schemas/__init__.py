"""Pydantic schemas of the API: *Create, *Update, *Response per resource."""
