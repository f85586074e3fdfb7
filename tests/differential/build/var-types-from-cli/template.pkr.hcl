variable "s" {
  type = string
}
variable "n" {
  type = number
}
variable "b" {
  type = bool
}
variable "l" {
  type = list(string)
}
variable "m" {
  type = map(number)
}
source "file" "out" {
  content = "s=${var.s}\nn=${var.n + 1}\nb=${!var.b}\nl=${jsonencode(var.l)}\nm=${jsonencode(var.m)}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
