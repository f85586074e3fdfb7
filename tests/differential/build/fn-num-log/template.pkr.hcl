source "file" "out" {
  target  = "out.txt"
  content = <<EOT
log(8, 2) = [${log(8, 2)}]
log(100, 10) = [${log(100, 10)}]
log(1, 10) = [${log(1, 10)}]
log(0.5, 2) = [${log(0.5, 2)}]
log(2, 0.5) = [${log(2, 0.5)}]
log(1000, 10) = [${log(1000, 10)}]
log(16, 4) = [${log(16, 4)}]
log(10, 3) = [${log(10, 3)}]
EOT
}

build {
  sources = ["source.file.out"]
}
