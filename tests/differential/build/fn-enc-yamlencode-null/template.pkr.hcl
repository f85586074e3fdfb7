source "file" "out" {
  target  = "out.txt"
  content = <<EOT
${yamlencode(null)}
EOT
}

build {
  sources = ["source.file.out"]
}
