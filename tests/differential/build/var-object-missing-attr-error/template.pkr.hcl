variable "svc" {
  type = object({
    name = string
    port = number
  })
}
source "file" "out" {
  content = "${jsonencode(var.svc)}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
