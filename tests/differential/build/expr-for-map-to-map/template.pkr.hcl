locals {
  m  = { zeta = 1, alpha = 2, mid = 3 }
  up = { for k, v in local.m : upper(k) => v * 10 }
  inv = { for k, v in local.m : "${v}" => k }
  fromlist = { for i, s in ["c", "a", "b"] : s => i }
}
source "file" "out" {
  content = "${jsonencode(local.up)}\n${jsonencode(local.inv)}\n${jsonencode(local.fromlist)}\n%{ for k, v in local.fromlist }${k}=${v} %{ endfor }\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
