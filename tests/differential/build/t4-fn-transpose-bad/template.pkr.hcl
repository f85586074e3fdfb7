source "file" "out" {
  target  = "out.txt"
  content = <<EOT
${jsonencode(transpose({ a = ["1", "2"], b = ["2"] }))}
EOT
}
build {
  sources = ["source.file.out"]
}
