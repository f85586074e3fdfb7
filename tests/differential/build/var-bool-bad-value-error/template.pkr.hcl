variable "b" {
  type = bool
}
source "file" "out" {
  content = "${var.b}"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
