source "file" "out" {
  target  = "out.txt"
  content = <<EOT
format("%d", 42) = [${format("%d", 42)}]
format("%d", -42) = [${format("%d", -42)}]
format("%5d|", 42) = [${format("%5d|", 42)}]
format("%-5d|", 42) = [${format("%-5d|", 42)}]
format("%05d", 42) = [${format("%05d", 42)}]
format("%05d", -42) = [${format("%05d", -42)}]
format("%+d", 42) = [${format("%+d", 42)}]
format("%x %X %o %b", 255, 255, 8, 5) = [${format("%x %X %o %b", 255, 255, 8, 5)}]
format("%d", "12") = [${format("%d", "12")}]
format("%d", 1e20) = [${format("%d", 1e20)}]
format("%d", -0) = [${format("%d", -0)}]
format("%3d|", 123456) = [${format("%3d|", 123456)}]
EOT
}

build {
  sources = ["source.file.out"]
}
