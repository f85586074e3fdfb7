locals {
  t      = true
  a      = local.t ? 1 : "one"
  b      = !local.t ? 1 : "one"
  c      = local.t ? true : "no"
  d      = local.t ? 1.5 : "x"
  e      = local.t ? null : "x"
  f      = local.t ? ["a"] : []
  nested = 3 > 2 ? (1 > 2 ? "x" : "y") : "z"
}
source "file" "out" {
  content = "${jsonencode([local.a, local.b, local.c, local.d])}\n${local.e == null}\n${jsonencode(local.f)}\n${local.nested}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
