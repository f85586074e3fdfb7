source "file" "out" {
  target  = "out.txt"
  content = <<EOT
coalesce("", null) = [${coalesce("", null)}]
EOT
}

build {
  sources = ["source.file.out"]
}
