locals {
  u  = uuidv4()
  b  = bcrypt("password")
  b4 = bcrypt("password", 4)
  t  = timestamp()
}
source "file" "out" {
  target  = "out.txt"
  content = <<EOT
uuid len=${length(local.u)} version=${substr(local.u, 14, 1)} dashes=${length(split("-", local.u))}
bcrypt len=${length(local.b)} prefix=${substr(local.b, 0, 7)}
bcrypt4 prefix=${substr(local.b4, 0, 7)}
ts len=${length(local.t)} z=${substr(local.t, 19, 1)} t=${substr(local.t, 10, 1)}
ts parse=${formatdate("YYYY", local.t) == substr(local.t, 0, 4)}
same=${uuidv4() == uuidv4()}
EOT
}
build {
  sources = ["source.file.out"]
}
