source "file" "out" {
  target  = "out.txt"
  content = <<EOT
[${try(tonumber("x"), "caught")}]
EOT
}
build {
  sources = ["source.file.out"]
}
