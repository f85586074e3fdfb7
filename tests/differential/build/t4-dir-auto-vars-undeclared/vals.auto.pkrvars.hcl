a     = "set"
other = "ignored"
