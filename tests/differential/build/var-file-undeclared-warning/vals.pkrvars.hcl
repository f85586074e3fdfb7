x = "set"
undeclared = "ignored"
