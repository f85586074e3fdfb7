variable "l" {
  type = list(string)
}
variable "o" {
  type = object({ a = number, b = list(bool) })
}
variable "s" {
  type = string
}
variable "n" {
  type = number
}
source "file" "out" {
  target  = "out.txt"
  content = "${jsonencode(var.l)}\n${jsonencode(var.o)}\n[${var.s}]\n${var.n + 1}\n"
}
build {
  sources = ["source.file.out"]
}
