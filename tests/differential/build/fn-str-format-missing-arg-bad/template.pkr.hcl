source "file" "out" {
  target  = "out.txt"
  content = <<EOT
format("%s %s", "a") = [${format("%s %s", "a")}]
EOT
}

build {
  sources = ["source.file.out"]
}
