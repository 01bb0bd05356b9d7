import type { OperationContext } from "../types.js";
import { runDoctor, type DoctorReport } from "../../doctor/doctor.js";

export const doctor = (_input: unknown, context: OperationContext): Promise<DoctorReport> =>
  runDoctor(context.store);
