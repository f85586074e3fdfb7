variable "nothing" {
  type    = string
  default = null
}
locals {
  obj   = { name = "solo", n = 1 }
  one   = local.obj[*].name
  whole = local.obj[*]
  none  = var.nothing[*]
  str   = "abc"[*]
}
source "file" "out" {
  content = "${jsonencode(local.one)}\n${jsonencode(local.whole)}\n${jsonencode(local.none)}\n${length(local.none)}\n${jsonencode(local.str)}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
