source "file" "out" {
  target  = "out.txt"
  content = <<EOT
[${jsonencode(1e21)}]
[${jsonencode(1e20)}]
[${jsonencode(100000000000000000000)}]
[${jsonencode(1e-7)}]
[${jsonencode(0.000001)}]
[${jsonencode(0.1 + 0.2)}]
[${jsonencode(123456789.123456789)}]
[${jsonencode(9007199254740993)}]
[${jsonencode(-1e21)}]
[${jsonencode(2.5e-320)}]
[${jsonencode(1.7976931348623157e308)}]
[${jsonencode([1e21, 1e-7, 0.5])}]
[${jsonencode({ n = 1e3 })}]
EOT
}
build {
  sources = ["source.file.out"]
}
