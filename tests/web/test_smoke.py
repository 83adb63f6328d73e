def test_world_builds(world):
    assert world.w1.community.code == "220102001001"
    assert world.users["worker"].worker_id == world.w1.pk
