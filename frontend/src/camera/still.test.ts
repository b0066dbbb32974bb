import { expect, test } from "vitest";
import fixture from "./fixtures/astronaut-landmarks.json";
import { judgeStill } from "./still";

const light = { brightness: 40.04, clipped: 0, sharpness: 0.61234 };

test("a chosen photo is judged by the camera's checks, never as automatic or live", () => {
  const face = { box: fixture.box, landmarks: fixture.landmarks };
  const q = judgeStill({ width: 512, height: 512, faces: [face], light });
  expect(q.source).toBe("file");
  expect(q.auto).toBe(false);
  expect(q.liveness).toBe("not_asked");
  expect(q.failed).toEqual(["tooDark", "comeCloser"]);
  expect(q.passed).toEqual(["noFace", "manyFaces", "tooBright", "moveBack", "faceScreen", "holdStill"]);
  expect(q.brightness).toBe(40);
  expect(q.sharpness).toBe(0.612);
  expect(q.yaw).not.toBeNull();
});

test("a chosen photo with no face in it says so, without a pose", () => {
  const q = judgeStill({ width: 96, height: 120, faces: [], light: { ...light, brightness: 128 } });
  expect(q.failed).toEqual(["noFace"]);
  expect(q.yaw).toBeNull();
  expect(q.size).toBe(0);
});
