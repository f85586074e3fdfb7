source "docker" "d" {
  build {
    path = "Dockerfile"
  }
  commit = true
}
source "amazon-ebs" "a" {
  region              = "us-east-1"
  source_ami          = "ami-12345678"
  spot_instance_types = ["t3.micro"]
  spot_price          = "auto"
  ssh_username        = "ubuntu"
  ami_name            = "a-image"
}
build { sources = ["source.docker.d", "source.amazon-ebs.a"] }
