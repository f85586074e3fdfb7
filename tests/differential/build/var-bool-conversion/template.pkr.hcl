variable "b1" {
  type = bool
}
variable "b2" {
  type    = bool
  default = "false"
}
variable "s" {
  type    = string
  default = true
}
variable "n" {
  type    = string
  default = 1.50
}
source "file" "out" {
  content = "${var.b1} ${var.b2} ${var.s} ${var.n}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
