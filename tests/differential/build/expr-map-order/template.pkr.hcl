locals {
  m = { zeta = 1, alpha = 2, mid = 3 }
}
source "file" "out" {
  content = "${join(",", keys(local.m))}\n${jsonencode(local.m)}\n%{for k, v in local.m}${k}=${v};%{endfor}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
