variable "u" {
  default = "d"
}
variable "lst" {
  default = ["d"]
}
source "file" "out" {
  target  = "out.txt"
  content = "${jsonencode(var.u)}\n${jsonencode(var.lst)}\n"
}
build {
  sources = ["source.file.out"]
}
