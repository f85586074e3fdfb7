locals {
  nums = [5, 1, 8, 3, 10, 2]
  m    = { b = 2, a = 1, d = 4, c = 3 }
  big  = [for n in local.nums : n if n > 3]
  odd  = [for i, n in local.nums : "${i}:${n}" if n % 2 == 1]
  even = { for k, v in local.m : k => v if v % 2 == 0 }
  none = [for n in local.nums : n if n > 100]
}
source "file" "out" {
  content = "${jsonencode(local.big)}\n${jsonencode(local.odd)}\n${jsonencode(local.even)}\n${jsonencode(local.none)}\n${length(local.none)}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
