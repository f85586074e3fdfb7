source "file" "out" {
  target  = "out.txt"
  content = <<EOT
timeadd("2020-01-01T00:00:00Z", "1d") = [${timeadd("2020-01-01T00:00:00Z", "1d")}]
EOT
}

build {
  sources = ["source.file.out"]
}
