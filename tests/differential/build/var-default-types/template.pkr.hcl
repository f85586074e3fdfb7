variable "nothing" {
  default = null
}
variable "list" {
  default = ["b", "a"]
}
variable "map" {
  default = { b = 1, a = [1, 2] }
}
variable "num" {
  type    = number
  default = "12.50"
}
variable "lnum" {
  type    = list(number)
  default = ["1", 2, "3.0"]
}
source "file" "out" {
  content = "${var.nothing == null}\n${jsonencode(var.list)}\n${jsonencode(var.map)}\n${var.num}\n${jsonencode(var.lnum)}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
