variable "svc" {
  type = object({
    name  = string
    port  = number
    tls   = bool
    tags  = list(string)
    extra = map(string)
  })
  default = {
    name  = 8080
    port  = "443"
    tls   = "true"
    tags  = [1, "two", false]
    extra = { z = 1, a = true }
    ignored = "dropped"
  }
}
source "file" "out" {
  content = "${jsonencode(var.svc)}\n${var.svc.port + 1}\n${var.svc.tls ? "tls" : "plain"}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
