source "file" "out" {
  target  = "out.txt"
  content = <<EOT
substr("hello", 1.5, 2) = [${substr("hello", 1.5, 2)}]
EOT
}

build {
  sources = ["source.file.out"]
}
