locals {
  d = jsondecode("{\"big\": 12345678901234567890123, \"f\": 0.1, \"e\": 1e3, \"neg\": -0.0, \"s\": \"1\", \"l\": [1.50, 2e-3]}")
}
source "file" "out" {
  target  = "out.txt"
  content = "${jsonencode(local.d)}\n${local.d.big}\n${local.d.e + 1}\n${local.d.neg}\n${local.d.l[0]}\n"
}
build {
  sources = ["source.file.out"]
}
