source "file" "out" {
  target  = "out.txt"
  content = <<EOT
file("data/bin.dat") = [${file("data/bin.dat")}]
EOT
}

build {
  sources = ["source.file.out"]
}
