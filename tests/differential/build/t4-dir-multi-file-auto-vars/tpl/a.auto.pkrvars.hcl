name = "from-auto"
tags = ["x", "y"]
