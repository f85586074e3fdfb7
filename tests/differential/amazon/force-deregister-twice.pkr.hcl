// kiln-differential: runs=2
// kiln-differs: artifact: with skip_save_build_region, Packer's artifact still names the temporary AMI it deregistered in the build region; Kiln's names only the AMIs that exist.
// Built twice: the second build deregisters the first one's AMIs (and deletes their snapshots)
// in every region. skip_save_build_region keeps no AMI in the build region.
variable "endpoint" { type = string }

source "amazon-ebs" "diff" {
  access_key             = "kiln-moto-key"
  secret_key             = "kiln-moto-secret"
  custom_endpoint_ec2    = var.endpoint
  skip_region_validation = true
  communicator           = "none"
  region                 = "us-east-1"
  source_ami_filter {
    filters = {
      name             = "amzn2-ami-hvm-2.0.*-x86_64-gp2"
      root-device-type = "ebs"
    }
    owners      = ["137112412989"]
    most_recent = true
  }
  instance_type          = "t3.small"
  ami_name               = "kiln-differential-again"
  ami_regions            = ["us-west-2", "eu-west-1"]
  skip_save_build_region = true
  force_deregister       = true
  force_delete_snapshot  = true
  tags                   = { Name = "again" }
}

build { sources = ["source.amazon-ebs.diff"] }
