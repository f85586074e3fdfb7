variable "s" {
  default = "out"
}
source "file" "out" {
  target  = "out.txt"
  content = "x\n"
}
build {
  sources = ["source.file.${var.s}"]
}
