variable "m" {
  type    = map(string)
  default = { keep = "default" }
}
variable "l" {
  type    = list(number)
  default = []
}
source "file" "out" {
  target  = "out.txt"
  content = "${jsonencode(var.m)}\n${jsonencode(var.l)}\n${length(var.l)}\n"
}
build {
  sources = ["source.file.out"]
}
