variable "n" {
  type = number
}
source "file" "out" {
  content = "${var.n}"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
