variable "l" {
  type = list(string)
}
variable "m" {
  type = map(string)
}
variable "s" {
  type = set(string)
}
variable "b1" {
  type = bool
}
variable "b2" {
  type = bool
}
variable "t" {
  type = tuple([string, number])
}
variable "o" {
  type = object({ a = string, b = list(number) })
}
source "file" "out" {
  target  = "out.txt"
  content = "${jsonencode(var.l)}\n${jsonencode(var.m)}\n${jsonencode(var.s)}\n${var.b1} ${var.b2}\n${jsonencode(var.t)}\n${jsonencode(var.o)}\n"
}
build {
  sources = ["source.file.out"]
}
