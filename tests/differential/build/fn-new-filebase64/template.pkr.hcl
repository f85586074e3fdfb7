source "file" "out" {
  target  = "out.txt"
  content = <<EOT
filebase64("data/bin.dat") = [${filebase64("data/bin.dat")}]
filebase64("data/a.txt") = [${filebase64("data/a.txt")}]
filebase64("data/empty.txt") = [${filebase64("data/empty.txt")}]
EOT
}

build {
  sources = ["source.file.out"]
}
