source "file" "out" {
  target  = "out.txt"
  content = <<EOT
${tostring(12)}
EOT
}
build {
  sources = ["source.file.out"]
}
