variable "x" {
  type     = string
  default  = "d"
  nullable = false
}
source "file" "out" {
  target  = "out.txt"
  content = "${var.x}\n"
}
build {
  sources = ["source.file.out"]
}
