b = "auto-2"
