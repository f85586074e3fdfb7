variable "cfg" {
  type = object({
    name  = string
    ports = list(number)
    meta  = map(string)
  })
}
source "file" "out" {
  content = "${jsonencode(var.cfg)}\n%{ for k, v in var.cfg.meta }${k}=${v}\n%{ endfor }"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
