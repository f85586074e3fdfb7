b = "two-b"
