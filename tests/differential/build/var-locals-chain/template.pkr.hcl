locals {
  c = "${local.b}-c"
}
locals {
  a = "a"
  b = "${local.a}-b"
  d = upper(local.c)
  e = [for s in [local.a, local.b, local.c] : length(s)]
  f = { for i, n in local.e : local.d => n... }
}
variable "v" {
  default = "v"
}
locals {
  g = "${var.v}+${local.d}"
}
source "file" "out" {
  content = "${local.c}\n${local.d}\n${jsonencode(local.e)}\n${jsonencode(local.f)}\n${local.g}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
