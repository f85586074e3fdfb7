source "file" "out" {
  content = <<EOT
sum=${0.1 + 0.2}
mul=${1.1 * 3}
sub=${0.3 - 0.1}
int=${2.5 * 4}
EOT
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
