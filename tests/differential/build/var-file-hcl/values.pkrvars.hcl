name  = "from-file"
count = "3"
tags = {
  zeta  = "z"
  Alpha = 1
}
list = ["1", 2]
