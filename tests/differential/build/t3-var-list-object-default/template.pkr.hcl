variable "disks" {
  type = list(object({
    name = string
    size = number
    tags = map(string)
  }))
  default = [
    { name = "root", size = "10", tags = { a = 1 } },
    { name = "data", size = 20.5, tags = {} },
  ]
}
source "file" "out" {
  target  = "out.txt"
  content = <<EOT
%{ for d in var.disks ~}
${d.name}:${d.size * 2}:${jsonencode(d.tags)}
%{ endfor ~}
${jsonencode(var.disks)}
EOT
}
build {
  sources = ["source.file.out"]
}
