import { runDoctor, type DoctorReport } from "../../doctor/doctor.js";

export const doctor = (): Promise<DoctorReport> => runDoctor();
