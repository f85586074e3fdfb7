variable "s" {
  type    = string
  default = "default"
}
variable "n" {
  type    = number
  default = 0
}
variable "l" {
  type    = list(string)
  default = []
}
variable "m" {
  default = "untyped-default"
}
source "file" "out" {
  content = "${var.s}|${var.n * 2}|${jsonencode(var.l)}|${var.m}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
